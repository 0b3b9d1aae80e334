"""A believable demo world in the configured database and storage: `ephemera demo` (make demo).

Everything is made through the same domain functions the API calls, as its users would: sign-ups,
uploads put at their storage keys and verified on attach, follows, posts, stories, messages.
"""

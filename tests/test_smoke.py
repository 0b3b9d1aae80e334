from tests.harness import Api


async def test_health_and_sign_up(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    user = await api.sign_up("alice")
    data = await api.gql("{ viewer { id username } }", token=user.token)
    assert data["viewer"] == {"id": user.id, "username": "alice"}

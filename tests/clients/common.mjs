// What every client script shares: its input (one JSON argument) and a counting fetch.
export const input = JSON.parse(process.argv[2]);

export function countingFetch(calls) {
  return (url, init = {}) => {
    calls.push({ method: init.method || "GET", url: String(url), body: init.body ? JSON.parse(init.body) : null });
    return fetch(url, init);
  };
}

export function done(result) {
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

export function within(ms, promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

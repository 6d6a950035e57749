/**
 * Keeps the process alive until the returned function is called: what a store waits for (an Atomics wait, a worker
 * that does not hold the process) would not, and the process could end with the wait unsettled.
 */
export function keepAlive(): () => void {
  const timer = setInterval(() => {}, 1000);
  return () => clearInterval(timer);
}

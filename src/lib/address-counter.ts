/** Open connections per remote address, so each address can be held to a cap. */
export function createAddressCounter() {
  const open = new Map<string, number>();
  return {
    count: (address: string) => open.get(address) ?? 0,
    /** Counts one more connection from `address` until `connection` closes. */
    track(address: string, connection: { once(event: 'close', listener: () => void): unknown }) {
      open.set(address, (open.get(address) ?? 0) + 1);
      connection.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
      });
    },
  };
}

/**
 * Hostile values a plugin may throw, reject with, return or report (DESIGN §5.5 says "with
 * anything"): each breaks a naive `String(x)`, `x.message`, `x instanceof Error` or clone.
 */
export type HostileKind = 'throwingGetters' | 'revokedProxy' | 'throwingPrototype' | 'throwingGet' | 'nullPrototype' | 'throwingToString';

export const HOSTILE_KINDS: readonly HostileKind[] = [
  'throwingGetters',
  'revokedProxy',
  'throwingPrototype',
  'throwingGet',
  'nullPrototype',
  'throwingToString',
];

/** A fresh hostile value of `kind`. */
export function hostile(kind: HostileKind): unknown {
  switch (kind) {
    case 'throwingGetters': {
      // An Error whose message, name and stack getters throw (stack first: defining it formats the trace).
      const error = new Error('placeholder');
      for (const key of ['stack', 'message', 'name']) {
        Object.defineProperty(error, key, {
          get() {
            throw new Error(`the ${key} getter throws`);
          },
          configurable: true,
        });
      }
      return error;
    }
    case 'revokedProxy': {
      const { proxy, revoke } = Proxy.revocable(new Error('revoked'), {});
      revoke();
      return proxy;
    }
    case 'throwingPrototype':
      return new Proxy(new Error('prototype'), {
        getPrototypeOf() {
          throw new Error('the getPrototypeOf trap throws');
        },
      });
    case 'throwingGet':
      return new Proxy(
        {},
        {
          get() {
            throw new Error('the get trap throws');
          },
        },
      );
    case 'nullPrototype':
      return Object.assign(Object.create(null) as object, { message: 'no prototype' });
    case 'throwingToString':
      return {
        toString() {
          throw new Error('toString throws');
        },
        valueOf() {
          throw new Error('valueOf throws');
        },
      };
  }
}

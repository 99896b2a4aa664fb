import { describe, expect, it } from 'vitest';
import { CallTimeoutError, isCallTimeoutError, isConfigError, ConfigError } from 'resmon';
import { decodeError, decodeValue, encodeError, encodeLogArgs, encodeValue, parseHostMessage } from '../src/hosts/protocol.js';

describe('the host protocol', () => {
  it.each([
    [null, 'must be an object'],
    [[1], 'must be an object'],
    [{ t: 'nonsense' }, 'unknown message type "nonsense"'],
    [{}, 'unknown message type undefined'],
    [{ t: 'result', id: 'x', ok: true }, '"result" needs id and ok'],
    [{ t: 'result', id: -1, ok: true }, '"result" needs id and ok'],
    [{ t: 'progress', id: 1, message: 5 }, '"progress" needs id'],
    [{ t: 'failure', id: 1 }, '"failure" needs id and resource'],
    [{ t: 'log', resource: 'a', entryPoint: 'launch', level: 'info', args: [] }, '"log" needs'],
    [{ t: 'log', resource: 'a', entryPoint: 'online', level: 'trace', args: [] }, '"log" needs'],
    [{ t: 'loaded', typeId: 1, info: { name: '', has: {} } }, '"loaded" needs'],
    [{ t: 'fatal', error: 'boom' }, '"fatal" needs an encoded error'],
  ])('refuses the malformed message %j', (raw, problem) => {
    const parsed = parseHostMessage(raw);
    expect(typeof parsed).toBe('string');
    expect(parsed).toContain(problem);
  });

  it('accepts well-formed messages as they are', () => {
    expect(parseHostMessage({ t: 'result', id: 3, ok: true, value: true })).toEqual({ t: 'result', id: 3, ok: true, value: true });
    expect(parseHostMessage({ t: 'failure', id: 3, resource: 'a' })).toEqual({ t: 'failure', id: 3, resource: 'a' });
    expect(parseHostMessage({ t: 'progress', id: 3, message: 'half' })).toEqual({ t: 'progress', id: 3, message: 'half' });
    expect(
      parseHostMessage({ t: 'loaded', typeId: 1, info: { name: 'x', defaults: undefined, has: { validate: false, open: true, looksAlive: false, close: false } } }),
    ).toMatchObject({ t: 'loaded', info: { name: 'x' } });
  });

  it('carries an error across with its name, message, stack and code', () => {
    const error = Object.assign(new TypeError('bad port'), { code: 'E_PORT' });
    const back = decodeError(encodeError(error) as never);
    expect(back).toBeInstanceOf(Error);
    expect(back).toMatchObject({ name: 'TypeError', message: 'bad port', code: 'E_PORT', stack: error.stack });
  });

  it('brings resmon errors back as resmon errors, so the guards recognise them', () => {
    const timeout = decodeError(encodeError(new CallTimeoutError('isAlive passed its deadline', 500)) as never);
    expect(isCallTimeoutError(timeout)).toBe(true);
    expect(timeout).toMatchObject({ timeoutMs: 500, name: 'CallTimeoutError' });
    expect(isConfigError(decodeError(encodeError(new ConfigError('properties', 1, 'must be an object')) as never))).toBe(true);
  });

  it('carries primitives as they are and other values as stand-ins of their kind', () => {
    for (const v of [true, false, 0, 'up', undefined, null, 10n]) expect(decodeValue(encodeValue(v))).toBe(v);
    expect(decodeValue(encodeValue({ up: true }))).toEqual({});
    expect(Array.isArray(decodeValue(encodeValue([1])))).toBe(true);
    expect(typeof decodeValue(encodeValue(() => 1))).toBe('function');
    expect(decodeValue(encodeError('nope'))).toBe('nope');
  });

  it('makes log arguments cloneable', () => {
    const [fields, error, fn] = encodeLogArgs([{ err: new Error('x'), n: 1 }, new Error('y'), () => 1]) as [Record<string, unknown>, unknown, unknown];
    expect(fields).toMatchObject({ err: { name: 'Error', message: 'x' }, n: 1 });
    expect(error).toMatchObject({ name: 'Error', message: 'y' });
    expect(typeof fn).toBe('string');
  });
});

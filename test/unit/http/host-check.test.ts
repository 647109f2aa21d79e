import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalHostName, createHostCheck, hostOfHeader } from '../../../broker-runtime/src/http/host-check.js';

/**
 * The Host check against DNS rebinding: a page whose hostile name resolves to the broker still
 * sends that name as Host, so only hosts that cannot be rebound (IP literals, localhost) and the
 * broker's own names are answered.
 */
describe('host check', () => {
  const check = createHostCheck(['b1', 'Broker.Example.COM.', 'bücher.example', '[::1]', '0.0.0.0']);
  const none = createHostCheck([]);

  test('IPv4 literals, with or without a port, are answered whatever the list', () => {
    for (const h of ['127.0.0.1', '127.0.0.1:5001', '10.0.0.11:5001', '0.0.0.0:1', '192.168.1.5:']) assert.equal(none(h), true, h);
  });

  test('IPv6 literals in brackets, with or without a port, are answered; broken brackets are not', () => {
    for (const h of ['[::1]', '[::1]:5001', '[fe80::1]:80', '[::ffff:127.0.0.1]:5001', '::1']) assert.equal(none(h), true, h);
    for (const h of ['[::1', '[::1]x', '[::1]:port', '[evil.example]:5001', '[]:5001']) assert.equal(none(h), false, h);
  });

  test('localhost and its subdomains are answered, in any case, with a trailing dot, with a port', () => {
    for (const h of ['localhost', 'localhost:5001', 'LOCALHOST:5001', 'localhost.', 'localhost.:5001', 'app.localhost:5001', 'a.b.LocalHost.']) {
      assert.equal(none(h), true, h);
    }
  });

  test('any other name is refused, names that merely look like localhost or an IP included', () => {
    for (const h of ['evil.example', 'evil.example:5001', 'localhost.evil.example', 'evillocalhost', 'localhost-evil:5001', '127.0.0.1.nip.io:5001', 'b1.evil.example', 'evil.example:abc', 'a b:5001', 'evil.example..']) {
      assert.equal(none(h), false, h);
      assert.equal(check(h), false, h);
    }
  });

  test('listed names are answered in any case, with a trailing dot and a port; the list is canonicalised too', () => {
    for (const h of ['b1', 'b1:5001', 'B1:5001', 'b1.:5001', 'broker.example.com', 'BROKER.example.com:443']) assert.equal(check(h), true, h);
    assert.equal(none('b1:5001'), false);
  });

  test('punycode: the xn-- form a browser sends matches a name listed in Unicode, and the reverse', () => {
    assert.equal(check('xn--bcher-kva.example:5001'), true);
    assert.equal(check('bücher.example'), true);
    assert.equal(createHostCheck(['xn--bcher-kva.example'])('BÜCHER.example:1'), true);
    assert.equal(check('xn--bcher-kvb.example'), false);
  });

  test('no Host (HTTP/1.0) or an empty one comes from no browser and passes; * answers every name', () => {
    assert.equal(none(undefined), true);
    assert.equal(none(''), true);
    const any = createHostCheck(['*']);
    assert.equal(any('evil.example:5001'), true);
  });

  test('hostOfHeader and canonicalHostName', () => {
    assert.deepEqual(hostOfHeader('Evil.Example.:80'), { ip: false, name: 'evil.example' });
    assert.deepEqual(hostOfHeader('127.1:80'), { ip: true });
    assert.equal(hostOfHeader('a/b'), null);
    assert.equal(canonicalHostName(''), null);
    assert.equal(canonicalHostName('.'), null);
    assert.equal(canonicalHostName('compose_b1_1'), 'compose_b1_1');
    assert.equal(canonicalHostName('http://x'), null);
    assert.equal(canonicalHostName('x:1'), null);
    assert.equal(canonicalHostName('Bücher.Example.'), 'xn--bcher-kva.example');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOutboundUrl } from '../../infra/guarded-fetch';
import { EMPTY_ALLOW_LIST, hostMatches, isRefusal, judgeUrl, parseAllowList, refusedRange, type OutboundPolicy } from '../../infra/outbound-guard';

// The address policy for tenant-chosen URLs, as a table: each row is an address and the range
// that refuses it (null: a public address, allowed).

describe('refusedRange', () => {
  const table: [string, string | null][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['100.128.0.1', null],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['8.8.8.8', null],
    ['200.147.67.142', null],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    // IPv4-mapped IPv6 is the IPv4 it carries.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', null],
    // Other IPv6 wrappers of IPv4, and anything outside global unicast 2000::/3.
    // IPv4-compatible ::a.b.c.d (as the URL parser writes it), refused whatever it carries.
    ['::7f00:1', 'reserved'],
    ['::808:808', 'reserved'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['2001:db8::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['2001:4860:4860::8888', null],
    ['2606:4700:4700::1111', null],
    ['[::1]', 'loopback'],
    ['localhost', 'notAnAddress'],
  ];
  for (const [address, range] of table) {
    it(`${address} → ${range ?? 'allowed'}`, () => assert.equal(refusedRange(address), range));
  }

  it('an operator allow-list lets its CIDRs and addresses through, and nothing else', () => {
    const allow = parseAllowList(' 10.0.0.0/8, fd00::/8,127.0.0.2 , ::ffff:192.168.7.0/120');
    const rows: [string, string | null][] = [
      ['10.1.2.3', null],
      ['::ffff:10.1.2.3', null],
      ['fd00::5', null],
      ['127.0.0.2', null],
      ['192.168.7.9', null],
      ['192.168.8.9', 'private'],
      ['127.0.0.1', 'loopback'],
      ['172.16.0.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
    ];
    for (const [address, range] of rows) assert.equal(refusedRange(address, allow), range, address);
  });
});

describe('parseAllowList', () => {
  it('reads names and CIDRs, lower-cased', () => {
    const allow = parseAllowList('N8N.internal,*.corp.example,10.0.0.0/8,');
    assert.deepEqual(allow.hosts, ['n8n.internal', '*.corp.example']);
    assert.equal(allow.cidrs.length, 1);
    assert.deepEqual(parseAllowList(''), { hosts: [], cidrs: [] });
  });
  for (const bad of ['n8n internal', '10.0.0.0/33', 'http://n8n.internal', 'n8n.internal:5678', '*', '*.']) {
    it(`refuses "${bad}"`, () => assert.throws(() => parseAllowList(bad), new RegExp(bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))));
  }
});

describe('hostMatches', () => {
  const patterns = ['lookaside.fbsbx.com', '*.fbcdn.net'];
  const table: [string, boolean][] = [
    ['lookaside.fbsbx.com', true],
    ['LOOKASIDE.fbsbx.com.', true],
    ['scontent.xx.fbcdn.net', true],
    ['fbcdn.net', false],
    ['evilfbcdn.net', false],
    ['lookaside.fbsbx.com.evil.example', false],
    ['fbsbx.com', false],
  ];
  for (const [host, ok] of table) it(`${host} → ${ok}`, () => assert.equal(hostMatches(host, patterns), ok));
});

describe('judgeUrl', () => {
  const dev: OutboundPolicy = { allow: parseAllowList('n8n.internal'), httpsOnly: false };
  const prod: OutboundPolicy = { ...dev, httpsOnly: true };
  const reason = (url: string, policy = dev) => {
    const v = judgeUrl(url, policy);
    return isRefusal(v) ? v.reason : 'ok';
  };
  const table: [string, OutboundPolicy, string][] = [
    ['http://hooks.example.com/x', dev, 'ok'],
    ['http://hooks.example.com/x', prod, 'scheme'],
    ['https://hooks.example.com/x', prod, 'ok'],
    ['ftp://hooks.example.com/x', dev, 'scheme'],
    ['file:///etc/passwd', dev, 'scheme'],
    ['not a url', dev, 'invalid_url'],
    ['http://127.0.0.1:5678/', dev, 'address'],
    ['http://[::1]:8080/', dev, 'address'],
    ['http://[::ffff:127.0.0.1]/', dev, 'address'],
    // The URL parser's own spellings of 127.0.0.1.
    ['http://2130706433/', dev, 'address'],
    ['http://0x7f.1/', dev, 'address'],
    ['http://017700000001/', dev, 'address'],
    ['http://169.254.169.254/latest/meta-data/', dev, 'address'],
    ['http://10.0.0.5/hook', dev, 'address'],
    ['https://8.8.8.8/', prod, 'ok'],
    ['http://n8n.internal/hook', dev, 'ok'],
  ];
  for (const [url, policy, expected] of table) {
    it(`${url}${policy.httpsOnly ? ' (https only)' : ''} → ${expected}`, () => assert.equal(reason(url, policy), expected));
  }
  it('says whether a name is operator-allowed', () => {
    const v = judgeUrl('http://N8N.internal/hook', dev);
    assert.ok(!isRefusal(v) && v.allowedName && !v.isLiteral);
    const w = judgeUrl('http://hooks.example.com/', dev);
    assert.ok(!isRefusal(w) && !w.allowedName);
  });
});

describe('checkOutboundUrl (when a URL is saved)', () => {
  const policy: OutboundPolicy = { allow: parseAllowList('n8n.internal'), httpsOnly: false };
  it('resolves the name: localhost is loopback', async () => {
    assert.deepEqual(await checkOutboundUrl('http://localhost:5678/hook', policy), { ok: false, reason: 'address', message: 'localhost resolves to 127.0.0.1, a loopback address' });
  });
  it('a name that does not resolve is its own refusal', async () => {
    const r = await checkOutboundUrl('https://nao-existe.invalid/hook', policy);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'dns');
  });
  it('an operator-allowed name is not resolved (it may resolve only inside the workers’ network)', async () => {
    assert.deepEqual(await checkOutboundUrl('http://n8n.internal/hook', policy), { ok: true });
  });
  it('a literal address is judged without DNS', async () => {
    assert.equal((await checkOutboundUrl('http://169.254.169.254/', { allow: EMPTY_ALLOW_LIST, httpsOnly: false })).ok, false);
    assert.deepEqual(await checkOutboundUrl('https://8.8.8.8/', { allow: EMPTY_ALLOW_LIST, httpsOnly: true }), { ok: true });
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TopicPatterns, patternProblem } from '../../../broker-runtime/src/auth/topic-pattern.js';

describe('topic patterns', () => {
  test('`*` stands for any run of characters; everything else, `.` included, for itself', () => {
    const p = new TopicPatterns(['orders.*', 'audit', '*-dlq']);
    for (const topic of ['orders.eu', 'orders.', 'orders.eu.west', 'audit', 'payments-dlq', '-dlq']) assert.ok(p.matches(topic), topic);
    for (const topic of ['orders', 'ordersXeu', 'audit2', 'xaudit', 'payments-dlq2', 'orders_eu']) assert.ok(!p.matches(topic), topic);
  });

  test('`*` alone matches every topic; no patterns match none', () => {
    assert.ok(new TopicPatterns(['*']).matches('anything.at_all-1'));
    const none = new TopicPatterns([]);
    assert.equal(none.any, false);
    assert.equal(none.matches('t'), false);
  });

  test('a pattern holds only topic-name characters and *, so no RegExp syntax gets through', () => {
    for (const bad of ['', 'a b', 'orders.(eu|us)', 'a+', '[a]', 'x'.repeat(250), 42]) assert.ok(patternProblem(bad), String(bad));
    assert.throws(() => new TopicPatterns(['a|b']));
    assert.equal(patternProblem('orders.*'), undefined);
  });
});

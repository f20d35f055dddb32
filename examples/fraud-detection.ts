/**
 * The example job of the README: Flink's fraud-detection walkthrough on eddy.
 * An account is flagged when a small transaction (< 1.00) is followed within one minute
 * (event time) by a large one (> 500.00). Run with `npm run example`.
 */
import { StreamExecutionEnvironment, WatermarkStrategy } from '../src/index.ts';
import { FraudDetector, transactions, type Transaction } from './fraud-detector.ts';

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(2);

const alerts = await env
  .fromCollection(transactions(1_000))
  .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Transaction>(5_000).withTimestampAssigner((tx) => tx.ts))
  // The collection source is not parallel; stamping at parallelism 1 keeps it chained to it,
  // so each account's transactions reach the detector in order.
  .setParallelism(1)
  .keyBy((tx) => tx.accountId)
  .process(new FraudDetector())
  .executeAndCollect('fraud-detection');

alerts.sort((a, b) => a.ts - b.ts);
for (const a of alerts) console.log(`ALERT account=${a.accountId} amount=${a.amount} at=${a.ts}`);
console.log(`${alerts.length} alerts from 1000 transactions`);

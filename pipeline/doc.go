// Package pipeline owns every goroutine and channel of the worker. It joins the Kafka
// consumer group, fetches each assigned partition, runs the stages (plain functions from
// package stages) over bounded channels, hands batches to the sink, and commits offsets.
//
// What it promises:
//   - An offset is committed only when every record before it in its partition is durable:
//     its rows acknowledged by the sink and its dead letter, if any, produced.
//   - Work of a revoked partition is fenced: a generation that ended never commits.
//   - Memory is bounded: a byte budget caps the bodies in flight; fetching blocks when the
//     sink falls behind.
//   - A panic in a stage becomes that record's dead letter ("panic: ..."; the stack is
//     logged, counted as wapipe_errors_total{where="panic"}), never a crash; a dead goroutine
//     stops the worker loudly. Shutdown is ordered: stop fetching, drain the stages, flush
//     the sink, commit, leave the group.
package pipeline

// Package durable is the worker's sink: it makes one batch of units durable by writing
// their rows to ClickHouse, one INSERT per table, and their dead letters to Kafka.
//
// It promises: transient failures (ClickHouse or Kafka away, timeouts, too many parts) are
// retried with backoff until they succeed or the context ends, and Healthy reports false
// meanwhile; a row ClickHouse rejects for good is split out of its batch, its record is
// dead-lettered with the reason, and the other rows land. Of a key's versions only the one
// FINAL reads is inserted; when that one is rejected, the best version of the units left is
// inserted in its place, so no unit is acknowledged without its rows. One bad value rejects
// its own row, never its neighbours' (InsertSplitting). Write returns nil only when all of
// it is durable.
package durable

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/sinks/clickhouse"
	"github.com/wapipe/wapipe/sinks/deadletter"
	"github.com/wapipe/wapipe/unit"
)

// Sink writes batches to ClickHouse and the dead-letter topic.
type Sink struct {
	ch      *clickhouse.Client
	dlq     *deadletter.Writer
	log     *slog.Logger
	healthy atomic.Bool
	obs     observers // retries metric and dependency health (observe.go)
}

// New returns a sink over an open ClickHouse client and dead-letter writer.
func New(ch *clickhouse.Client, dlq *deadletter.Writer, log *slog.Logger) *Sink {
	s := &Sink{ch: ch, dlq: dlq, log: log}
	s.healthy.Store(true)
	return s
}

// Healthy is false while a write is failing and being retried.
func (s *Sink) Healthy() bool { return s.healthy.Load() }

// Write implements pipeline.Sink.
func (s *Sink) Write(ctx context.Context, batch []*unit.Unit) error {
	if err := s.writeRows(ctx, batch); err != nil {
		return err
	}
	letters := lettersOf(batch)
	return s.retry(ctx, health.Kafka, "dead letters", func() error {
		return connect.Explain("kafka", s.dlq.Write(ctx, letters))
	})
}

// writeRows inserts the rows FINAL would read (group), dead-letters the unit of each row
// ClickHouse rejects, and then writes, for every rejected key, the best version left among
// the units not rejected: the kept row stood for the versions it superseded, which other
// units carried, and those units must not be acknowledged without them. Each round rejects
// at least one more unit, so it ends.
func (s *Sink) writeRows(ctx context.Context, batch []*unit.Unit) error {
	byTable := group(batch)
	rejectedBy := map[*unit.Unit]bool{}
	for len(byTable) > 0 {
		again := map[string]map[model.RowKey]bool{} // table -> keys whose kept row was rejected
		for _, table := range model.Tables {
			rejected, err := s.insert(ctx, table, byTable[table])
			if err != nil {
				return err
			}
			for _, r := range rejected {
				owner := ownerOf(batch, r.Row)
				owner.Reject("sink", unit.ReasonRowRejected, fmt.Sprintf("%s rejected a row: %s", table, r.Reason))
				rejectedBy[owner] = true
				if again[table] == nil {
					again[table] = map[model.RowKey]bool{}
				}
				again[table][r.Row.Key()] = true
			}
		}
		byTable = regroup(batch, again, rejectedBy)
	}
	return nil
}

// insert writes one table's rows, retrying transient failures, and returns those rejected.
func (s *Sink) insert(ctx context.Context, table string, rows []model.Row) ([]clickhouse.Rejected, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var rejected []clickhouse.Rejected
	err := s.retry(ctx, health.ClickHouse, "insert "+table, func() error {
		var err error
		rejected, err = s.ch.InsertSplitting(ctx, table, rows)
		return connect.Explain("clickhouse", err) // a refused login reads as one in logs and /readyz
	})
	return rejected, err
}

// regroup groups again, for the keys given, the rows of the units the sink has not rejected.
func regroup(batch []*unit.Unit, keys map[string]map[model.RowKey]bool, rejected map[*unit.Unit]bool) map[string][]model.Row {
	if len(keys) == 0 {
		return nil
	}
	var left []*unit.Unit
	for _, u := range batch {
		if rejected[u] {
			continue
		}
		var rows []model.Row
		for _, r := range u.Rows {
			if keys[r.Table()][r.Key()] {
				rows = append(rows, r)
			}
		}
		if len(rows) > 0 {
			left = append(left, &unit.Unit{Rows: rows, Rec: u.Rec})
		}
	}
	return group(left)
}

// group splits the batch's rows per table, and keeps of each logical key only the row
// FINAL would read: the highest version, of equal versions the later (ReplacingMergeTree's
// rule). A batch holds a message's sent, delivered and read statuses, and a contact's every
// event, as versions of one row; the versions it supersedes itself need not be inserted,
// and nothing an analyst reads changes (with FINAL, or after ClickHouse merges).
func group(batch []*unit.Unit) map[string][]model.Row {
	perTable := map[string]int{}
	for _, u := range batch {
		for _, r := range u.Rows {
			perTable[r.Table()]++
		}
	}
	byTable := make(map[string][]model.Row, len(perTable))
	at := make(map[string]map[model.RowKey]int, len(perTable)) // table -> key -> index in byTable[table]
	for table, n := range perTable {
		byTable[table] = make([]model.Row, 0, n)
		at[table] = make(map[model.RowKey]int, n) // sized once: growing it rehashed every key
	}
	for _, u := range batch {
		for _, r := range u.Rows {
			table := r.Table()
			index := at[table]
			k := r.Key()
			if i, ok := index[k]; ok {
				if r.RowVersion() >= byTable[table][i].RowVersion() {
					byTable[table][i] = r
				}
				continue
			}
			index[k] = len(byTable[table])
			byTable[table] = append(byTable[table], r)
		}
	}
	return byTable
}

// ownerOf finds the unit a rejected row came from. Rejections are rare, so a scan beats
// indexing every row of every batch.
func ownerOf(batch []*unit.Unit, row model.Row) *unit.Unit {
	for _, u := range batch {
		for _, r := range u.Rows {
			if r == row {
				return u
			}
		}
	}
	return nil
}

func lettersOf(batch []*unit.Unit) []deadletter.Letter {
	var letters []deadletter.Letter
	for _, u := range batch {
		if u.DeadLetter == nil {
			continue
		}
		letters = append(letters, deadletter.Letter{Key: u.Rec.Key, Value: u.Rec.Value,
			Headers: u.Rec.Headers, Stage: u.DeadLetter.Stage, Reason: u.DeadLetter.Reason,
			Source: u.Rec.Source()})
	}
	return letters
}

// retry runs op until it succeeds or ctx ends, with the worker's one backoff policy
// (internal/backoff: 100ms to 5s, jittered); each retry is counted for dep as it happens.
func (s *Sink) retry(ctx context.Context, dep, what string, op func() error) error {
	r := s.retrier(dep)
	return r.Do(ctx, what, func() error {
		err := op()
		s.healthy.Store(err == nil)
		return err
	})
}

package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/internal/backoff"
	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/sinks/clickhouse"
	"github.com/wapipe/wapipe/stages/process"
)

// eraseAgain is the worker's part of wapipe forget: after a batch is durable, the contacts
// whose erasure it applied are erased in ClickHouse again (mutations left to run in the
// background). Rows the worker wrote before it applied the erasure, such as those of the
// older snapshots a fresh worker replays from the identity topic before it reaches the
// erasure, may have landed after the forget command's own mutations. Where nothing of the
// person is left, this costs one count a table and no mutation.
type eraseAgain struct {
	ch      *clickhouse.Client
	log     *slog.Logger
	retries *prometheus.CounterVec
}

// durable repeats the erasures of the batch that is durable now, before its state is
// checkpointed (see process.Stage.DurablyErased).
func (e eraseAgain) durable(ctx context.Context, proc *process.Stage) error {
	refs := proc.DurablyErased()
	if len(refs) == 0 {
		return nil
	}
	return e.run(ctx, refs)
}

func (e eraseAgain) run(ctx context.Context, refs []identity.ContactRef) error {
	byTenant := map[string][]string{}
	var tenants []string
	for _, r := range refs {
		if byTenant[r.Tenant] == nil {
			tenants = append(tenants, r.Tenant)
		}
		byTenant[r.Tenant] = append(byTenant[r.Tenant], r.ID)
	}
	rt := backoff.Retrier{Policy: backoff.Default, Dependency: health.ClickHouse, Log: e.log, OnRetry: backoff.Count(e.retries)}
	for _, t := range tenants {
		var changed []clickhouse.ErasedTable
		err := rt.Do(ctx, "erase forgotten contacts in ClickHouse", func() error {
			var err error
			changed, err = e.ch.EraseLater(ctx, t, byTenant[t])
			return err
		})
		if err != nil {
			return err
		}
		for _, c := range changed {
			if c.Rows > 0 {
				e.log.Info("erased a forgotten person's rows this worker wrote before applying the erasure",
					"tenant", t, "contacts", len(byTenant[t]), "table", c.Table, "rows", c.Rows)
			}
		}
	}
	return nil
}

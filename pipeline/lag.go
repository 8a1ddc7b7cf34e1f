package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/internal/health"
)

// lagLoop measures, every LagInterval until ctx ends, how far each owned input partition's
// committed offset is behind its end: wapipe_consumer_lag. It is measured from the commit,
// not the fetch position, so it grows while records wait for a dependency (a ClickHouse
// outage) instead of reading 0 because they were fetched.
func (r *Runner) lagLoop(ctx context.Context) {
	client := &kafka.Client{Addr: kafka.TCP(r.cfg.Brokers...), Timeout: 5 * time.Second, Transport: r.cfg.Transport} // TLS and SASL
	t := time.NewTicker(r.cfg.LagInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.measureLag(ctx, client)
			r.probeReplica(ctx, client)
			if !r.waiting() {
				r.progress.touch() // idle is not stuck: a stall counts from when input arrived
			}
		}
	}
}

// measureLag asks the brokers for the end of every owned input partition.
func (r *Runner) measureLag(ctx context.Context, client *kafka.Client) {
	var owned []*lease
	for _, l := range leasesOf(&r.src.mu, r.src.leases) {
		if l.topic == r.cfg.Topic {
			owned = append(owned, l)
		}
	}
	if len(owned) == 0 {
		r.progress.lag.Store(0)
		return
	}
	reqs := make([]kafka.OffsetRequest, 0, 2*len(owned))
	for _, l := range owned {
		reqs = append(reqs, kafka.FirstOffsetOf(l.partition), kafka.LastOffsetOf(l.partition))
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{r.cfg.Topic: reqs}})
	if err != nil {
		r.observeKafka(err)
		return
	}
	r.observeKafka(nil)
	ends := map[int]kafka.PartitionOffsets{}
	for _, po := range resp.Topics[r.cfg.Topic] {
		if po.Error == nil {
			ends[po.Partition] = po
		}
	}
	var total int64
	for _, l := range owned {
		po, ok := ends[l.partition]
		if !ok {
			continue
		}
		lag := max(po.LastOffset-l.committedFrom(po.FirstOffset, po.LastOffset), 0)
		r.metrics.Lag.WithLabelValues(strconv.Itoa(l.partition)).Set(float64(lag))
		total += lag
	}
	r.progress.lag.Store(total)
	r.reportCatchUp(total, time.Now())
}

// probeReplica reports the identity topic down while the brokers do not know it (it was
// deleted under the worker, say): the worker then resolves alone, which /readyz must say.
func (r *Runner) probeReplica(ctx context.Context, client *kafka.Client) {
	if r.cfg.Replica == nil {
		return
	}
	topic := r.cfg.Replica.Topic
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}}) // never creates it
	switch {
	case err != nil:
		return // the brokers are away: kafka is reported down by measureLag
	case len(md.Topics) != 1 || md.Topics[0].Error != nil:
		var why error = fmt.Errorf("topic %s not in the metadata", topic)
		if len(md.Topics) == 1 {
			why = fmt.Errorf("topic %s: %w", topic, md.Topics[0].Error)
		}
		r.probe().SetDown(health.IdentityTopic, why)
	case len(md.Topics[0].Partitions) == 0:
		r.probe().SetDown(health.IdentityTopic, fmt.Errorf("topic %s has no partitions", topic))
	default:
		r.probe().SetUp(health.IdentityTopic)
	}
}

// observeKafka reports to Config.Health whether the brokers answered.
func (r *Runner) observeKafka(err error) {
	if err != nil {
		r.metrics.Errors.WithLabelValues("lag").Inc()
		r.probe().SetDown(health.Kafka, err)
		return
	}
	r.probe().SetUp(health.Kafka)
}

// probe is the lag loop's own view of the brokers: its answers clear only what it reported,
// never a failure of the fetches or of the dead-letter writes.
func (r *Runner) probe() health.Reporter { return r.cfg.Health.Reporter("probe") }

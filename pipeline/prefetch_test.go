package pipeline

import (
	"fmt"
	"testing"
)

// The partition readers fetch ahead of the pipeline, outside the byte budget's semaphore:
// each holds the fetch it decodes (up to its MaxBytes) and its queue of bodies. Whatever
// the budget and the number of partitions a worker owns, the records the semaphore admits
// plus what every reader may hold, bodies no larger than its fetch, stay within
// --max-in-flight-mb (down to a floor of 64 KiB a fetch).
func TestReadersPrefetchWithinTheBudget(t *testing.T) {
	for _, mb := range []int64{8, 32, 256} {
		for _, parts := range []int{1, 6, 24} {
			for _, replica := range []bool{false, true} {
				t.Run(fmt.Sprintf("%dMB/%d partitions/replica %v", mb, parts, replica), func(t *testing.T) {
					cfg := Config{Brokers: []string{"k:9092"}, Topic: "in", Group: "g", MaxInFlightBytes: mb << 20}
					if replica {
						cfg.Replica = &ReplicaConfig{Topic: "ids", Offsets: nil}
					}
					cfg, err := cfg.WithDefaults()
					if err != nil {
						t.Fatal(err)
					}
					fetch := cfg.groupFetch(parts)
					total := cfg.recordBytes() + int64(parts)*held(fetch)
					if replica {
						total += held(cfg.replicaFetch(1))
					}
					if total > cfg.MaxInFlightBytes && fetch != minFetchBytes {
						t.Errorf("records %d + readers' prefetch = %d bytes, over the budget of %d (fetch %d, queue %d)",
							cfg.recordBytes(), total, cfg.MaxInFlightBytes, fetch, readerQueue)
					}
					if fetch > cfg.FetchMaxBytes || fetch < min(minFetchBytes, cfg.FetchMaxBytes) {
						t.Errorf("fetch of %d bytes, want %d..%d", fetch, minFetchBytes, cfg.FetchMaxBytes)
					}
				})
			}
		}
	}
}

// held is the most a reader holds: its fetch and a full queue of bodies no larger.
func held(fetch int) int64 { return int64(fetch) * (1 + readerQueue) }

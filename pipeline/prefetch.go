package pipeline

// The partition readers (kafka-go) fetch ahead of the pipeline, before the byte budget sees
// what they fetched: each holds the fetch it is decoding (up to its MaxBytes; a compressed
// batch is decompressed whole) and a queue of bodies, 100 by kafka-go's default, which at
// Meta's 3 MB bodies was 300 MB a partition outside --max-in-flight-mb. So the budget is
// split: a quarter for the fetches of the group's partitions, an eighth for those of the
// replica topic, the rest for the records in the pipeline (the semaphore). Each reader's
// MaxBytes is its share of its part divided by one more than its queue, so that the fetch and
// a queue of bodies no larger than it stay within the share. A body larger than a fetch
// still comes (alone), as Kafka returns a message over MaxBytes whole.

// readerQueue is how many bodies a reader holds ahead of the pipeline: enough to keep its
// goroutine busy between our reads, few enough to count in the budget.
const readerQueue = 4

// minFetchBytes is the smallest fetch: below it a worker with many partitions and a small
// budget would spend its time on round trips (the budget is then exceeded by at most
// readers × 5 × 64 KiB).
const minFetchBytes = 64 << 10

func (c Config) groupFetchBytes() int64 { return c.MaxInFlightBytes / 4 }

func (c Config) replicaFetchBytes() int64 {
	if c.Replica == nil {
		return 0
	}
	return c.MaxInFlightBytes / 8
}

// recordBytes is the semaphore's size: the bodies fetched, not yet durable.
func (c Config) recordBytes() int64 {
	return c.MaxInFlightBytes - c.groupFetchBytes() - c.replicaFetchBytes()
}

// groupFetch is the MaxBytes of the reader of one of the readers partitions a generation
// assigned.
func (c Config) groupFetch(readers int) int { return c.fetch(c.groupFetchBytes(), readers) }

// replicaFetch is the MaxBytes of the reader of one of the replica topic's readers partitions.
func (c Config) replicaFetch(readers int) int { return c.fetch(c.replicaFetchBytes(), readers) }

func (c Config) fetch(part int64, readers int) int {
	n := part / int64(max(readers, 1)) / (1 + readerQueue)
	return int(min(max(n, minFetchBytes), int64(c.FetchMaxBytes)))
}

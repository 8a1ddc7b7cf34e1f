package pipeline

// skipped reports input records the reader jumped over: the committed offset was below the
// first one the partition still keeps (retention deleted them before this group read them),
// and kafka-go moved on to the first kept without a word. Those records are lost to the
// worker; the operator must hear of it.
func (s *source) skipped(l *lease, from, to int64) {
	s.metrics.Skipped.Add(float64(to - from))
	s.log.Warn("records skipped: no longer in the topic when the group reached them (retention)",
		"topic", l.topic, "partition", l.partition, "from", from, "to", to, "records", to-from)
}

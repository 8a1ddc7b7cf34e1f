package main

import "github.com/twmb/franz-go/pkg/kmsg"

// kmsgOffsetFetch asks for the group's committed offsets of the input topic's partitions.
func kmsgOffsetFetch(group string, ends map[int32]int64) *kmsg.OffsetFetchRequest {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	t := kmsg.NewOffsetFetchRequestTopic()
	t.Topic = topic
	for p := range ends {
		t.Partitions = append(t.Partitions, p)
	}
	req.Topics = append(req.Topics, t)
	return req
}

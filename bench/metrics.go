package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sample is one series of the worker's /metrics (Prometheus text format).
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

type scrape []sample

var httpClient = &http.Client{Timeout: 10 * time.Second}

func getScrape(addr string) (scrape, error) {
	resp, err := httpClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return parseScrape(string(b)), nil
}

// parseScrape reads the text format; the worker's label values never hold quotes or commas,
// so a plain split is enough.
func parseScrape(text string) scrape {
	var out scrape
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		s := sample{name: line[:sp], value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			s.labels = map[string]string{}
			for _, kv := range strings.Split(strings.TrimSuffix(s.name[i+1:], "}"), ",") {
				if k, val, ok := strings.Cut(kv, "="); ok {
					s.labels[k] = strings.Trim(val, `"`)
				}
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// sum adds every series of name whose labels include match.
func (s scrape) sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, x := range s {
		if x.name == name && matches(x.labels, match) {
			total += x.value
		}
	}
	return total
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// labelValues lists the values label takes in the series of name.
func (s scrape) labelValues(name, label string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if v, ok := x.labels[label]; x.name == name && ok && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// histogram is a Prometheus histogram's count, sum and cumulative buckets.
type histogram struct {
	count, sum float64
	bounds     []float64 // upper bounds, ascending, +Inf last
	cum        []float64
}

func (s scrape) histogram(name string, match map[string]string) histogram {
	h := histogram{count: s.sum(name+"_count", match), sum: s.sum(name+"_sum", match)}
	byBound := map[float64]float64{}
	for _, x := range s {
		if x.name != name+"_bucket" || !matches(x.labels, match) {
			continue
		}
		le, err := strconv.ParseFloat(x.labels["le"], 64)
		if err == nil {
			byBound[le] += x.value
		}
	}
	for b := range byBound {
		h.bounds = append(h.bounds, b)
	}
	sort.Float64s(h.bounds)
	for _, b := range h.bounds {
		h.cum = append(h.cum, byBound[b])
	}
	return h
}

func (h histogram) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / h.count
}

// quantile is the upper bound of the bucket holding quantile q: an upper estimate, as coarse
// as the buckets.
func (h histogram) quantile(q float64) float64 {
	want := q * h.count
	for i, c := range h.cum {
		if c >= want && h.count > 0 {
			return h.bounds[i]
		}
	}
	return math.NaN()
}

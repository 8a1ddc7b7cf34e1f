package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// fetchProfile saves the worker's /debug/pprof/<what> (with query, e.g. "seconds=20") to file.
func fetchProfile(addr, what, query, file string, timeout time.Duration) error {
	url := "http://" + addr + "/debug/pprof/" + what
	if query != "" {
		url += "?" + query
	}
	c := http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s (does this build serve /debug/pprof/?)", url, resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

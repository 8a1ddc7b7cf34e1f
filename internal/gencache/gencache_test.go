package gencache

import (
	"fmt"
	"testing"
)

// The cache holds at most its limit, keeps what was used in the last generation, and a nil
// cache holds nothing.
func TestCacheKeepsRecentWithinLimit(t *testing.T) {
	c := New[int](10)
	for i := range 100 {
		c.Put(fmt.Sprint(i), i)
		c.Get([]byte("0")) // used all along: must survive every generation
	}
	if n := len(c.cur) + len(c.old); n > 10 {
		t.Fatalf("%d entries held, limit 10", n)
	}
	if v, ok := c.Get([]byte("0")); !ok || v != 0 {
		t.Fatalf("a key used in every generation was forgotten: %v, %v", v, ok)
	}
	if v, ok := c.Get([]byte("99")); !ok || v != 99 {
		t.Fatalf("the newest key is missing: %v, %v", v, ok)
	}
	if _, ok := c.Get([]byte("50")); ok {
		t.Fatal("a key unused for many generations is still held")
	}
	none := New[int](0)
	none.Put("a", 1)
	if _, ok := none.Get([]byte("a")); ok {
		t.Fatal("a cache of limit 0 held a value")
	}
}

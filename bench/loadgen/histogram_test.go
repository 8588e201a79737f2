package loadgen_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
)

func TestHistogramQuantile(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
	}{
		{"one value", []time.Duration{42 * time.Microsecond}},
		{"small exact", []time.Duration{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
		{"uniform", seq(1, 10000, func(i int) time.Duration { return time.Duration(i) * time.Microsecond })},
		{"spread", seq(1, 2000, func(i int) time.Duration { return time.Duration(i*i*i) * time.Nanosecond })},
		{"long tail", append(seq(1, 999, func(int) time.Duration { return 100 * time.Microsecond }), 3*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h loadgen.Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			sorted := slices.Clone(tt.values)
			slices.Sort(sorted)
			if got, want := h.Count(), uint64(len(sorted)); got != want {
				t.Fatalf("Count() = %d, want %d", got, want)
			}
			if got, want := h.Max(), sorted[len(sorted)-1]; got != want {
				t.Errorf("Max() = %v, want %v", got, want)
			}
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(math.Ceil(q * float64(len(sorted))))
				want := sorted[max(rank, 1)-1]
				got := h.Quantile(q)
				// Within half a bucket (1/32) of the exact value, or 1 ns.
				if diff := math.Abs(float64(got - want)); diff > float64(want)/32+1 {
					t.Errorf("Quantile(%v) = %v, want %v ± 3.2%%", q, got, want)
				}
			}
		})
	}
}

func seq(lo, hi int, f func(int) time.Duration) []time.Duration {
	var out []time.Duration
	for i := lo; i <= hi; i++ {
		out = append(out, f(i))
	}
	return out
}

func TestHistogramEmpty(t *testing.T) {
	var h loadgen.Histogram
	if got := h.Quantile(0.99); got != 0 {
		t.Errorf("Quantile of empty = %v, want 0", got)
	}
	if got := h.Mean(); got != 0 {
		t.Errorf("Mean of empty = %v, want 0", got)
	}
	h.Record(-5)
	if got := h.Max(); got != 0 {
		t.Errorf("a negative duration recorded as %v, want 0", got)
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all loadgen.Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if got, want := a.Count(), all.Count(); got != want {
		t.Fatalf("merged Count() = %d, want %d", got, want)
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if got, want := a.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("merged Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if got, want := a.Mean(), all.Mean(); got != want {
		t.Errorf("merged Mean() = %v, want %v", got, want)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h loadgen.Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * time.Nanosecond)
	}
}

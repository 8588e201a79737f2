package harness

// Internals for the external tests.
var (
	Summarize = (*Report).summarize
	RSS       = rss
	CPUTime   = cpuTime
)

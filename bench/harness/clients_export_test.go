package harness

// Internals of the client comparison for the external tests.
var SummarizeClients = (*ClientsReport).summarize

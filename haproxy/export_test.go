package haproxy

// HeaderLen exposes headerLen to the external tests.
var HeaderLen = headerLen

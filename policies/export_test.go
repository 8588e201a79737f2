package policies

// PeerEntries returns how many peers the LimitConnectionsByPeer policy of f
// keeps an entry for.
func PeerEntries(f *WrappingFactory) int {
	l := f.policy.(*peerLimit)
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.counts)
}

// BudgetUsed returns the bytes counted in the current windows of the
// ThrottlingFactory f (-1 for a direction without a limit).
func BudgetUsed(f *WrappingFactory) (reads, writes int64) {
	t := f.policy.(*throttle)
	used := func(b *budget) int64 {
		if b == nil {
			return -1
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.used
	}
	return used(t.reads), used(t.writes)
}

package workflow

// Cursor is the last log sequence the dispatcher has turned into runs.
// Events up to it are no longer needed by the engine (each run keeps its own
// copy of the payload), so retention may expire them; events after it must
// stay until dispatched.
func (e *Engine) Cursor() uint64 {
	e.cursorMu.Lock()
	defer e.cursorMu.Unlock()
	return e.cursor
}

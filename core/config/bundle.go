package config

// Bundle is everything loaded from a set of configuration files.
type Bundle struct {
	Settings    Settings
	Connections []*Connection
	Workflows   []*Workflow
	Directories []*Directory
	Surveys     []*Survey
	Alerts      []*Alert
	// Warnings are problems that do not stop loading, sorted by position.
	Warnings []*Warning
	// Files are the files read, in the order read.
	Files []string
}

// Connection returns the connection with the name, or nil.
func (b *Bundle) Connection(name string) *Connection {
	for _, c := range b.Connections {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Workflow returns the workflow with the name, or nil.
func (b *Bundle) Workflow(name string) *Workflow {
	for _, w := range b.Workflows {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Directory returns the directory with the name, or nil.
func (b *Bundle) Directory(name string) *Directory {
	for _, d := range b.Directories {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Survey returns the survey with the name, or nil.
func (b *Bundle) Survey(name string) *Survey {
	for _, s := range b.Surveys {
		if s.Name == name {
			return s
		}
	}
	return nil
}

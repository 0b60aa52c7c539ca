package mapping

import (
	"errors"
	"fmt"
	"sort"
)

// FieldSpec is one entry of a workflow's `fields:` block.
type FieldSpec struct {
	// Path is the JSONPath of the value in the payload.
	Path string
	// Type converts the value; TypeAny keeps it as it is.
	Type Type
	// Required makes a missing or null value an error instead of Default.
	Required bool
	// Default replaces a missing or null value. It is converted to Type once,
	// when the fields are compiled.
	Default any
}

// FieldError is a field that failed to compile or to extract.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// Fields is a compiled `fields:` block. It is safe for concurrent use.
type Fields struct {
	fields []field
	names  []string
}

type field struct {
	name     string
	path     *Path
	typ      Type
	required bool
	def      any
	// list is set for untyped fields whose path may match several nodes:
	// they yield every match as a list.
	list bool
}

// CompileFields compiles each field once, so that Apply only walks the
// payload. The error is a *FieldError naming the first bad field (by name).
func CompileFields(specs map[string]FieldSpec) (*Fields, error) {
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	sort.Strings(names)
	f := &Fields{fields: make([]field, 0, len(names)), names: names}
	for _, name := range names {
		spec := specs[name]
		if name == "" {
			return nil, &FieldError{Field: `""`, Err: errors.New("a field needs a name")}
		}
		typ, err := ParseType(string(spec.Type))
		if err != nil {
			return nil, &FieldError{Field: name, Err: err}
		}
		if spec.Path == "" {
			return nil, &FieldError{Field: name, Err: errors.New("path is required, e.g. {path: $.properties.revenue}")}
		}
		p, err := CompilePath(spec.Path)
		if err != nil {
			return nil, &FieldError{Field: name, Err: err}
		}
		def := spec.Default
		if def != nil {
			if spec.Required {
				return nil, &FieldError{Field: name, Err: errors.New("a required field cannot have a default")}
			}
			if def, err = convert(typ, def, "default"); err != nil {
				return nil, &FieldError{Field: name, Err: err}
			}
		}
		f.fields = append(f.fields, field{
			name:     name,
			path:     p,
			typ:      typ,
			required: spec.Required,
			def:      def,
			list:     typ == TypeAny && !p.Singular(),
		})
	}
	return f, nil
}

// Names returns the field names, sorted.
func (f *Fields) Names() []string { return append([]string(nil), f.names...) }

// Apply extracts and converts every field from a decoded payload. A path that
// matches nothing, or matches JSON null, gives the field's default (nil when
// there is none), unless the field is required. The error is the first
// failing field's *FieldError, in name order.
func (f *Fields) Apply(doc any) (map[string]any, error) {
	out := make(map[string]any, len(f.fields))
	for i := range f.fields {
		fd := &f.fields[i]
		var v any
		var found bool
		if fd.list {
			if nodes := fd.path.Select(doc); len(nodes) > 0 {
				v, found = nodes, true
			}
		} else {
			v, found = fd.path.First(doc)
		}
		if !found || v == nil {
			if fd.required {
				what := "missing"
				if found {
					what = "null"
				}
				return nil, &FieldError{Field: fd.name, Err: fmt.Errorf("%s is %s and %w", fd.path.expr, what, ErrRequired)}
			}
			out[fd.name] = fd.def
			continue
		}
		cv, err := convert(fd.typ, v, fd.path.expr)
		if err != nil {
			return nil, &FieldError{Field: fd.name, Err: err}
		}
		out[fd.name] = cv
	}
	return out, nil
}

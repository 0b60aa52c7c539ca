package fileimport

import "testing"

func TestPick(t *testing.T) {
	tests := []struct {
		names   []string
		name    string
		want    int
		wantErr string
	}{
		{[]string{"people"}, "", 0, ""},
		{[]string{"people", "orders"}, "orders", 1, ""},
		{[]string{"people", "orders"}, "", 0, `conn: no entity "" (configured: [people orders])`},
		{[]string{"people"}, "nope", 0, `conn: no entity "nope" (configured: [people])`},
		{nil, "people", 0, "conn: no entities configured (config.entities): this connection only exports"},
	}
	for _, tt := range tests {
		i, err := Pick(len(tt.names), func(i int) string { return tt.names[i] }, tt.name, "conn")
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Pick(%v, %q) error = %v, want %q", tt.names, tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || i != tt.want {
			t.Errorf("Pick(%v, %q) = %d, %v; want %d", tt.names, tt.name, i, err, tt.want)
		}
	}
}

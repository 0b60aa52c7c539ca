package main

import (
	"context"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// activityFields are the members of every Marketo activity record.
var activityFields = []pluginsdk.Field{
	{Name: "id", DisplayName: "Id", APILabel: "id", Type: "integer", Required: true, ReadOnly: true},
	{Name: "marketoGUID", DisplayName: "Marketo GUID", APILabel: "marketoGUID", Type: "string", ReadOnly: true},
	{Name: "leadId", DisplayName: "Lead Id", APILabel: "leadId", Type: "integer", Required: true, ReadOnly: true},
	{Name: "activityDate", DisplayName: "Activity Date", APILabel: "activityDate", Type: "datetime", Required: true, ReadOnly: true},
	{Name: "activityTypeId", DisplayName: "Activity Type Id", APILabel: "activityTypeId", Type: "integer", Required: true, ReadOnly: true},
	{Name: "campaignId", DisplayName: "Campaign Id", APILabel: "campaignId", Type: "integer", ReadOnly: true},
	{Name: "primaryAttributeValueId", DisplayName: "Primary Attribute Value Id", APILabel: "primaryAttributeValueId", Type: "integer", ReadOnly: true},
	{Name: "primaryAttributeValue", DisplayName: "Primary Attribute Value", APILabel: "primaryAttributeValue", Type: "string", ReadOnly: true},
	{Name: "attributes", DisplayName: "Attributes", APILabel: "attributes", Type: "array", ReadOnly: true},
}

var describePaths = fields.MustCompile("$.rest.name", "$.displayName", "$.dataType", "$.rest.readOnly")

// Metadata implements pluginsdk.MetadataProvider: the activity fields, and
// the lead fields this connection reads as /rest/v1/leads/describe.json
// describes them (a configured field Marketo does not know is listed with
// type "unknown", so the data overview shows the mistake).
func (m *Marketo) Metadata(ctx context.Context) (*pluginsdk.MetadataResult, error) {
	if err := m.configured(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("marketo metadata: %v", err)
	}
	const path = "/rest/v1/leads/describe.json"
	r, err := m.call(ctx, "GET", path, "", nil)
	if err != nil {
		return nil, err
	}
	described := map[string]pluginsdk.Field{}
	if r.result != nil {
		items, err := fields.Elements(r.result)
		if err != nil {
			return nil, pluginsdk.Retryable("GET %s: result: %v", path, err)
		}
		var v [4][]byte
		for _, it := range items {
			if firstByte(it) != '{' || describePaths.Extract(it, v[:]) != nil {
				continue
			}
			name, ok := fields.String(v[0])
			if !ok || name == "" {
				continue
			}
			f := pluginsdk.Field{Name: name, APILabel: name}
			f.DisplayName, _ = fields.String(v[1])
			f.Type, _ = fields.String(v[2])
			f.ReadOnly, _ = fields.Bool(v[3])
			described[name] = f
		}
	}
	return &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{
		{Name: entityLeads, DisplayName: "Leads", Fields: leadFieldsMeta(m.cfg.leadFields, described)},
		{Name: entityActivities, DisplayName: "Lead activities", Fields: activityFields},
	}}, nil
}

// knownLeadTypes are the Marketo data types of standard lead fields, for the
// Spec (which cannot ask Marketo).
var knownLeadTypes = map[string]string{"id": "integer", "email": "email", "createdAt": "datetime", "updatedAt": "datetime"}

// leadFieldsMeta lists names, described where Marketo said how.
func leadFieldsMeta(names []string, described map[string]pluginsdk.Field) []pluginsdk.Field {
	out := make([]pluginsdk.Field, 0, len(names))
	for _, n := range names {
		f, ok := described[n]
		if !ok {
			f = pluginsdk.Field{Name: n, APILabel: n, Type: knownLeadTypes[n]}
			if f.Type == "" {
				f.Type = "string"
			}
			if described != nil {
				f.Type, f.DisplayName = "unknown", n+" (not a field of this Marketo instance)"
			}
		}
		if n == "id" {
			f.Required, f.ReadOnly = true, true
		}
		out = append(out, f)
	}
	return out
}

// Package lint is the vocabulary of checking: statuses, rule metadata,
// citations of the Microsoft requirements a rule enforces, and a generic
// registry that runs rules over any subject type.
//
// The framework, not the rule, decides NA (role outside Roles, or Applies
// false) and Fatal (a recovered panic), and it enforces that a rule's name
// prefix bounds its severity: e_ rules may return only Error, w_ only Warn,
// n_ only Notice.
package lint

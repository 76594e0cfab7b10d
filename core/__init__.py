"""Small shared building blocks that every app may use and that import none
of them (the project package `helpdesk/` wires them in; apps never import it)."""

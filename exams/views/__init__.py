"""Pages and JSON endpoints. Thin: look the object up through exams.permissions, call a service, render."""

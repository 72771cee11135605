"""Item analysis of assessments and templates: Moodle's quiz statistics (item_statistics), which named
misconception each answer shows (misconceptions), plots (plots), cached analyses and their tasks (caching,
tasks), the student's feedback (feedback) and CSV tables (tables)."""

from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "Courses and assessments"

    def ready(self) -> None:
        from exams import login_guard  # noqa: F401  (registers its deploy check)

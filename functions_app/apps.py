from django.apps import AppConfig


class FunctionsAppConfig(AppConfig):
    name = "functions_app"
    verbose_name = "Functions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals

        signals.connect(self)

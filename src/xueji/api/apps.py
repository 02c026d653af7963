from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "xueji.api"
    verbose_name = "API"

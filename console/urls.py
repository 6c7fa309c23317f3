from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("v1/", include("functions_app.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("functions_app.web.urls")),
]

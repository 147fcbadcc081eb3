"""URL configuration: the developer portal at /, Django admin at /admin/."""

from django.contrib import admin
from django.urls import path

from portal import views

admin.site.site_header = "Portico administration"
admin.site.site_title = "Portico admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

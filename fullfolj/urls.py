from django.contrib import admin
from django.urls import include, path

from fullfolj.access import views as access_views

urlpatterns = [
    path("saml2/", include("fullfolj.access.saml")),
    path("logga-in/", access_views.SignInView.as_view(), name="login"),
    path("logga-ut/", access_views.SignOutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("narvaro/", include("fullfolj.attendance.urls")),
    path("riskzon/", include("fullfolj.screening.urls")),
    path("trappan/", include("fullfolj.ladder.urls")),
    path("importera/", include("fullfolj.exchange.urls")),
    path("stod/", include("fullfolj.support.urls")),
    path("stod/", include("fullfolj.support.flow_urls")),
    path("skolplikt/", include("fullfolj.compulsory.urls")),
    path("overlamning/", include("fullfolj.handover.urls")),
    path("resursbank/", include("fullfolj.bank.urls")),
    path("kasam/", include("fullfolj.kasam.urls")),
    path("rapporter/", include("fullfolj.reports.urls")),
    path("api/", include("fullfolj.api.urls")),
    path("", include("fullfolj.records.urls")),
    path("", include("fullfolj.access.urls")),
    path("", include("fullfolj.elevakt.urls")),
]

from django.urls import re_path

from feedback.api import views

app_name = "feedback-api"

# With or without the trailing slash: production clients are configured by hand.
urlpatterns = [
    re_path(r"^predictions/?$", views.PredictionsView.as_view(), name="predictions"),
    re_path(r"^feedback/?$", views.FeedbackView.as_view(), name="feedback"),
    re_path(r"^outcomes/?$", views.OutcomesView.as_view(), name="outcomes"),
    re_path(
        r"^end-users/(?P<end_user>[^/]{1,200})/?$", views.EndUserView.as_view(), name="end-user"
    ),
]

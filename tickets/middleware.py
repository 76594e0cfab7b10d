"""Request hooks of the tickets app."""

from tickets.queues import forget_queue_counts


class QueueCountsMiddleware:
    """After a signed-in user's successful POST (a reply, a property change, a
    bulk action...), drop their cached queue counts so that the next page they
    see counts their own change. Other users' counts catch up within
    queues.COUNT_CACHE_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        wrote = request.method == "POST" and response.status_code < 400
        if wrote and user is not None and user.is_authenticated:
            forget_queue_counts(user.pk)
        return response

"""What an execution is asked to do, and the one factory of ``Execution`` rows: every trigger
(HTTP, domain, schedule, delay, event, a re-run) makes its row here, and a queued run rebuilds
its request from the row in one place."""

from dataclasses import dataclass, field

from ..ids import unique_id
from ..models import Execution
from . import headers

EVENT_HEADER = "x-appwrite-event"


@dataclass
class Request:
    method: str = "POST"
    path: str = "/"
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    trigger: str = Execution.Trigger.HTTP
    user_id: str = ""
    client_ip: str = ""
    event: str | None = None  # None: no ``x-appwrite-event`` header at all

    @classmethod
    def of(cls, execution):
        """The request a stored execution was made with (credentials were never stored)."""
        kept = dict(execution.runtime_headers)
        return cls(
            method=execution.request_method,
            path=execution.request_path,
            headers={k: v for k, v in kept.items() if k != EVENT_HEADER},
            body=bytes(execution.request_body),
            trigger=execution.trigger,
            user_id=execution.user_id,
            client_ip=execution.client_ip,
            event=kept.get(EVENT_HEADER),
        )


def new_execution(function, request, status, scheduled_at=None, chain="", depth=0):
    """The row for a run (unsaved): only the storable part of the caller's headers is kept."""
    kept = headers.storable(request.headers)
    if request.event is not None:
        kept[EVENT_HEADER] = request.event
    user_id = request.user_id
    return Execution(
        project_id=function.project_id,
        function=function,
        uid=unique_id(),
        status=status,
        trigger=Execution.Trigger.SCHEDULE if scheduled_at else request.trigger,
        request_method=request.method,
        request_path=request.path,
        request_headers=headers.request_list(request.headers, request.client_ip),
        request_body=request.body,
        runtime_headers=kept,
        scheduled_at=scheduled_at,
        user_id=user_id,
        permissions=[f'read("user:{user_id}")'] if user_id else [],
        event_chain=chain or unique_id(),
        event_depth=depth,
    )

"""fal's queue API, as fal_client 1.0.3 drives it.

  POST /queue/{owner}/{alias}[/{path}][?fal_webhook=URL]   submit (Authorization: Key ...)
  GET  /queue/{owner}/{alias}/requests/{id}/status?logs=1  202 while queued/running, 200 done
  GET  /queue/{owner}/{alias}/requests/{id}/status/stream  server-sent events until COMPLETED
                                                           (?logs=1: new log lines per event)
  GET  /queue/{owner}/{alias}/requests/{id}                the result (400 while running)
  PUT  /queue/{owner}/{alias}/requests/{id}/cancel         202 CANCELLATION_REQUESTED / 400
  POST /run/{owner}/{alias}[/{path}]                       the synchronous API (waits, answers)
Like fal, the request URLs name only owner/alias, not the endpoint path.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from bot.fal.simulated import model
from bot.fal.simulated.errors import (
    detail_response,
    model_error_item,
    model_error_response,
    request_error_response,
)
from bot.fal.simulated.jobs import COMPLETED, IN_QUEUE, SimJob, start_timeout_of

if TYPE_CHECKING:
    from bot.fal.simulated.server import SimulatedFal

_REQUEST = "/queue/{owner}/{alias}/requests/{request_id}"
TIMEOUT_TYPE_HEADER = "X-Fal-Request-Timeout-Type"


class QueueApi:
    """Route handlers bound to one SimulatedFal."""

    def __init__(self, fal: SimulatedFal) -> None:
        self._fal = fal

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(_REQUEST + "/status/stream", self.stream),
            web.get(_REQUEST + "/status", self.status),
            web.put(_REQUEST + "/cancel", self.cancel),
            web.get(_REQUEST, self.result),
            web.post("/queue/{app_id:.+}", self.submit),
            web.post("/run/{app_id:.+}", self.run),
        ]

    async def _guard(self, request: web.Request) -> web.StreamResponse | None:
        """Authorization, then the consumable queue faults, in that order."""
        if (denied := self._fal.check_key(request)) is not None:
            return denied
        faults = self._fal.faults
        if faults.take("drop_connection_next"):
            return drop_connection(request)
        if faults.take("rate_limit_next"):
            return web.json_response(
                {"detail": "Rate limit exceeded", "error_type": "rate_limited"},
                status=429,
                headers={"Retry-After": str(faults.retry_after_seconds)},
            )
        if faults.take("server_error_next"):
            return request_error_response("internal_error")
        return None

    def _job(self, request: web.Request) -> SimJob | None:
        job = self._fal.jobs.get(request.match_info["request_id"])
        app = f"{request.match_info['owner']}/{request.match_info['alias']}"
        if job is None or (not job.app_id.startswith(app + "/") and job.app_id != app):
            return None
        return job

    async def submit(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        app_id = request.match_info["app_id"].strip("/")
        if app_id not in self._fal.app_ids:
            return detail_response(f"Application '{app_id}' not found", status=404)
        try:
            arguments = await request.json()
        except json.JSONDecodeError:
            item = model_error_item(["body"], "Invalid JSON", "json_invalid")
            return model_error_response([item])
        if not isinstance(arguments, dict):
            item = model_error_item(["body"], "Input should be an object", "dict_type")
            return model_error_response([item])
        if (malformed := _bad_start_timeout(request)) is not None:
            return malformed
        if self._fal.faults.validation_error:
            limit = model.INPUTS["num_frames"].maximum or 0
            item = model.range_problem("num_frames", arguments.get("num_frames"), "le", limit)
            return model_error_response([item])
        job = await self._fal.enqueue(
            app_id, arguments, dict(request.headers), request.query.get("fal_webhook")
        )
        if self._fal.faults.take("lose_submit_response"):
            return drop_connection(request)
        body = {
            "request_id": job.request_id,
            "gateway_request_id": job.request_id,
            "status": IN_QUEUE,
            **job.urls,
            "queue_position": job.queue_position,
        }
        return web.json_response(body, headers={"x-fal-request-id": job.request_id})

    async def status(self, request: web.Request) -> web.StreamResponse:
        self._fal.status_requests += 1
        self._fal.looks.record("poll", request.match_info["request_id"])
        if (refused := await self._guard(request)) is not None:
            return refused
        job = self._job(request)
        if job is None:
            return detail_response("Request not found", status=404)
        body = job.status_body(with_logs=_wants_logs(request))
        return web.json_response(
            body,
            status=200 if job.state == COMPLETED else 202,
            headers={"x-fal-request-id": job.request_id},
        )

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events, one per change: `data: {status JSON}`, COMPLETED last, then the
        body ends. Like fal-js expects, each event's `logs` holds only the lines logged since
        the previous event of this stream."""
        self._fal.stream_requests += 1
        self._fal.looks.record("stream", request.match_info["request_id"])
        if self._fal.faults.stream_missing:
            return detail_response("Not Found", status=404)
        if (refused := await self._guard(request)) is not None:
            return refused
        job = self._job(request)
        if job is None:
            return detail_response("Request not found", status=404)
        with_logs = _wants_logs(request)
        drop = self._fal.faults.take("drop_stream_next")
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "x-fal-request-id": job.request_id,
            }
        )
        await response.prepare(request)
        seen, sent_logs = -1, 0
        while True:
            async with job.changed:

                def moved(last: int = seen) -> bool:
                    return job.version != last

                await job.changed.wait_for(moved)
                seen = job.version
            if _client_gone(request):
                return response  # nobody reads any more: stop, as fal would
            body = job.status_body(with_logs=with_logs)
            if with_logs:
                body["logs"], sent_logs = job.logs[sent_logs:], len(job.logs)
            await response.write(f"data: {json.dumps(body)}\n\n".encode())
            if drop:
                drop_connection(request)  # mid-stream, as a proxy or a network blip would
                return response
            if job.state == COMPLETED:
                break
        await response.write_eof()
        return response

    async def result(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        job = self._job(request)
        if job is None or self._fal.faults.result_expired:
            return detail_response("Request not found", status=404)
        if job.state != COMPLETED:
            return detail_response("Request is still in progress", status=400)
        return self.outcome_response(job)

    def outcome_response(self, job: SimJob) -> web.StreamResponse:
        """The answer for a completed job: its output, or the error it ended with."""
        outcome = job.outcome
        assert outcome is not None
        headers = {"x-fal-request-id": job.request_id}
        if outcome.model_errors is not None:
            response = model_error_response(outcome.model_errors)
            response.headers.update(headers)
            return response
        if outcome.result is None:
            response = request_error_response(
                outcome.error_type or "internal_error", detail=outcome.error_detail
            )
            if outcome.timeout_type is not None:
                headers[TIMEOUT_TYPE_HEADER] = outcome.timeout_type
            response.headers.update(headers)
            return response
        faults = self._fal.faults
        if not faults.omit_billable_units:
            units = faults.billable_units or str(outcome.billable_units)
            headers["x-fal-billable-units"] = units
        if faults.bad_json_result:
            return web.Response(
                text='{"video": {"url": ', content_type="application/json", headers=headers
            )
        body = dict(outcome.result)
        if faults.missing_video:
            body.pop("video", None)
        return web.json_response(body, headers=headers)

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        job = self._job(request)
        if job is None:
            return web.json_response({"status": "NOT_FOUND"}, status=404)
        if job.state == COMPLETED:
            return web.json_response({"status": "ALREADY_COMPLETED"}, status=400)
        job.cancel_requested = True
        if job.state == IN_QUEUE:
            job.skip.set()  # removed from the queue: it ends now and never runs
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)

    async def run(self, request: web.Request) -> web.StreamResponse:
        """fal.run: the same job, answered on the same connection when it completes."""
        if (refused := await self._guard(request)) is not None:
            return refused
        app_id = request.match_info["app_id"].strip("/")
        if app_id not in self._fal.app_ids:
            return detail_response(f"Application '{app_id}' not found", status=404)
        if (malformed := _bad_start_timeout(request)) is not None:
            return malformed
        job = await self._fal.enqueue(app_id, await request.json(), dict(request.headers), None)
        async with job.changed:
            await job.changed.wait_for(lambda: job.state == COMPLETED)
        return self.outcome_response(job)


def _bad_start_timeout(request: web.Request) -> web.Response | None:
    """fal's 400 for an X-Fal-Request-Timeout it cannot read (docs: error type bad_request)."""
    try:
        start_timeout_of(request.headers)
    except ValueError:
        return request_error_response("bad_request", detail="Invalid X-Fal-Request-Timeout")
    return None


def _wants_logs(request: web.Request) -> bool:
    return request.query.get("logs", "0").lower() in ("1", "true", "yes")


def _client_gone(request: web.Request) -> bool:
    """The client closed its end. Over TLS asyncio keeps the transport open (and drops writes,
    warning "SSL connection is closed") until its shutdown times out, so look at the TLS
    protocol's state as well: it leaves WRAPPED as soon as the peer's end is closed."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return True
    state = getattr(getattr(transport, "_ssl_protocol", None), "_state", None)
    return state is not None and getattr(state, "name", "WRAPPED") != "WRAPPED"


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without answering (the client sees a transport error)."""
    if request.transport is not None:
        request.transport.abort()
    # aiohttp notices the closed transport and writes nothing.
    return web.Response(status=500)

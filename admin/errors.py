"""The console's small exception tree; each blueprint maps it to HTTP in one place."""

from __future__ import annotations

# What the console shows for each error code (service language for staff).
MESSAGES = {
    "bad_text": "内容不能为空，且不能超过 2000 字",
    "bad_agent": "请选择另一位在岗的客服专员",
    "bad_request": "请求格式不正确",
    "not_yours": "该会话不在您名下，请先接入",
    "owned_by_other": "该会话已由其他客服专员接入",
    "no_resident": "找不到该业主的会话",
    "no_message": "找不到这条消息",
    "not_retryable": "这条消息已发送或无法重发",
    "window_closed": "业主最后一条消息已超过48小时，微信不允许再发送客服消息。"
                     "请等待业主再次留言，或电话联系业主。",
    "ticket_error": "工单操作失败",
    "out_of_scope": "该会话或工单属于您未负责的小区",
}


class ConsoleError(Exception):
    """A console request that cannot be done; `code` picks the message staff see."""

    status = 400

    def __init__(self, code: str = "bad_request", detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail

    @property
    def message(self) -> str:
        base = MESSAGES.get(self.code, MESSAGES["bad_request"])
        return f"{base}：{self.detail}" if self.detail else base


class ForbiddenError(ConsoleError):
    status = 403


class NotFoundError(ConsoleError):
    status = 404


class ConflictError(ConsoleError):
    status = 409


class WindowClosedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("window_closed")

"""Policy documents the gateway tests build: onMessage bodies wrapped in a whole document."""


def on_message(inbound: str = "", outbound: str = "") -> str:
    """A document whose onMessage section runs `inbound` / `outbound` after the inherited ones."""
    return (
        "<policies><inbound><base/></inbound><on-message>"
        f"<inbound><base/>{inbound}</inbound><outbound><base/>{outbound}</outbound>"
        "</on-message></policies>"
    )

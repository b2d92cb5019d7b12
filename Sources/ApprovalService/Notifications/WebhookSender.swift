import SignedHTTP

/// Approval events go out as signed posts.
typealias WebhookSender = SignedPoster

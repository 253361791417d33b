namespace Mulan.Apps.Runtime;

/// <summary>
/// Serves an <c>app:&lt;slug&gt;</c> request with this version instead of the published one: how an administrator tries
/// a version before publishing it. A request feature, so only code in this process can set it (no header or body field).
/// </summary>
public sealed record PinnedAppVersion(PublishedApp App);

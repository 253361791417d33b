namespace Mulan.Gateway.Catalog;

/// <summary>What uses a model route (by name) besides other routes, e.g. published apps; deleting it is refused while any does.</summary>
public sealed class ModelReferences : Hosting.References;

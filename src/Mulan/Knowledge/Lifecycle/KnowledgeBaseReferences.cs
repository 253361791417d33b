namespace Mulan.Knowledge.Lifecycle;

/// <summary>What uses a knowledge base (by id); deleting one that is in use is refused unless forced.</summary>
public sealed class KnowledgeBaseReferences : Hosting.References;

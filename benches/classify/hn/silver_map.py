"""HN 2026's `llm_role` (an LLM's coarse role, a silver label) -> the one taxonomy title it labels.

Shared by labels_help.py (which writes half A's labels with it) and population_knn.py (which
scores half B against it). score.py keeps its own map: it also accepts roles that mean either of
two titles ("DevOps / SRE"), which cannot be a training label.
"""
LABEL_MAP = {
    "Software Engineer": "software_engineer", "Senior Software Engineer": "software_engineer",
    "Full Stack Engineer": "full_stack_engineer", "Backend Engineer": "backend_engineer",
    "Frontend Engineer": "frontend_engineer", "Senior Backend Engineer": "backend_engineer",
    "AI Engineer": "machine_learning_engineer", "ML Engineer": "machine_learning_engineer",
    "Engineering Manager": "engineering_manager", "Product Manager": "product_manager",
    "Mobile Engineer": "mobile_engineer", "Data Scientist": "data_scientist",
    "Data Engineer": "data_engineer", "Product Engineer": "software_engineer",
}

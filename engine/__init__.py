"""Hall's engine: deploys and runs the hall's BPMN diagrams durably. No Flask in here."""

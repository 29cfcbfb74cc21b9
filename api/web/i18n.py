"""French and English for the web interface: English text is the key, French its translation.

The catalogue is a plain mapping kept in the repository (no compiled message files,
nothing to build on a fresh machine). A text missing from the French catalogue is
shown in English rather than hidden; the test suite checks that every text the
templates ask for has its French translation.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("fr", "en")
DEFAULT = "fr"

FRENCH: dict[str, str] = {
    "Custody Ledger": "Registre de traçabilité",
    "Sign in": "Se connecter",
    "Sign out": "Se déconnecter",
    "Username": "Identifiant",
    "Password": "Mot de passe",
    "Unknown username or wrong password": "Identifiant inconnu ou mot de passe erroné",
    "Too many failed sign-ins: try again later": "Trop d'échecs de connexion : réessayez plus tard",
    # choosing one's own password (api/web/password.py)
    "Change my password": "Changer mon mot de passe",
    "My password": "Mon mot de passe",
    "Current password or enrolment secret": "Mot de passe actuel ou code d'enrôlement",
    "New password": "Nouveau mot de passe",
    "New password again": "Nouveau mot de passe (confirmation)",
    "At least 12 characters; not your username or your name; not a common or easily guessed password. "
    "A few unrelated words make a strong one.": "Au moins 12 caractères ; ni votre identifiant ni votre nom ; "
    "pas un mot de passe courant ou facile à deviner. Quelques mots sans rapport entre eux en font un solide.",
    "You signed in with the enrolment secret you were given. Choose your own password: until then you can sign "
    "nothing.": "Vous vous êtes connecté avec le code d'enrôlement qui vous a été remis. Choisissez votre propre "
    "mot de passe : d'ici là, vous ne pouvez rien signer.",
    "Your password was changed: your signing key now opens with it alone.": "Votre mot de passe a été changé : "
    "votre clé de signature ne s'ouvre plus qu'avec lui.",
    "Continue": "Continuer",
    "Password not changed": "Mot de passe non changé",
    "Worklist": "Liste de travail",
    "Products awaiting my step": "Produits en attente de mon étape",
    "Other products": "Autres produits",
    "Running deadlines": "Délais en cours",
    "Overdue follow-up visits": "Visites de suivi en retard",
    "Nothing is waiting for you.": "Rien ne vous attend.",
    "None.": "Aucun.",
    "Product": "Produit",
    "Products": "Produits",
    "State": "État",
    "Next step": "Prochaine étape",
    "Patient": "Patient",
    "Time left": "Temps restant",
    "overdue": "dépassé",
    "Location": "Emplacement",
    "Custodian": "Détenteur",
    "Holds": "Blocages",
    "Bags": "Poches",
    "Consent withdrawn": "Consentement retiré",
    "no step may consume or commit the product": "aucune étape ne peut consommer ni engager le produit",
    "Pathway managed elsewhere": "Parcours de soins géré ailleurs",
    "cannot be told from the history": "indéterminable depuis l'historique",
    "infused": "perfusée",
    "thawed": "décongelée",
    "destroyed": "détruite",
    "returned": "retournée",
    "stored": "stockée",
    "dispensed": "dispensée",
    "awaiting": "en attente",
    "Open deviations": "Déviations ouvertes",
    "Timeline": "Historique",
    "Recorded steps": "Étapes enregistrées",
    "Record a step": "Enregistrer une étape",
    "Verification": "Vérification",
    "Chain and signatures verified": "Chaîne et signatures vérifiées",
    "Verification FAILED": "Vérification ÉCHOUÉE",
    "Download the export bundle": "Télécharger le paquet d'export",
    "Label": "Étiquette",
    "Scan the bag's label": "Scannez l'étiquette de la poche",
    "COI matches this product": "Le COI correspond à ce produit",
    "MISMATCH: this label is not this product": "DISCORDANCE : cette étiquette n'est pas ce produit",
    "Sign": "Signer",
    "Cancel": "Annuler",
    "Continue to signature": "Continuer vers la signature",
    "Electronic signature": "Signature électronique",
    "Signed by": "Signé par",
    "Date and time": "Date et heure",
    "Meaning": "Signification",
    "Your password": "Votre mot de passe",
    "When it happened": "Quand cela a eu lieu",
    "Step recorded and signed": "Étape enregistrée et signée",
    "Refused": "Refusé",
    "Not allowed for your role": "Non autorisé pour votre rôle",
    "Inventory": "Inventaire",
    "Patients": "Patients",
    "Audit": "Audit",
    "Metrics": "Indicateurs",
    "Language": "Langue",
    "Main menu": "Menu principal",
    "Skip to content": "Aller au contenu",
    "Shipment": "Expédition",
    "yes": "oui",
    "no": "non",
    "none": "aucun",
    "Back to the product": "Retour au produit",
    "required": "obligatoire",
    "judged by the ledger from the figures": "jugé par le registre d'après les relevés",
    "Field": "Champ",
    "Rule": "Règle",
    "Vein-to-vein": "De veine à veine",
    "Not found": "Introuvable",
    "Signed in as": "Connecté en tant que",
    "Shipment steps": "Étapes de l'expédition",
    "Dispatch a shipment with this product": "Expédier ce produit",
    # inventory, patient, audit and metrics pages (api/web/views.py)
    "Pharmacy inventory": "Inventaire de la pharmacie",
    "Filter by site": "Filtrer par site",
    "Site": "Site",
    "All sites": "Tous les sites",
    "Show": "Afficher",
    "Units on hand": "Unités en stock",
    "LN2 tank": "Cuve d'azote",
    "Rack": "Portoir",
    "Box": "Boîte",
    "Position": "Position",
    "Received, not yet stored in LN2": "Reçu, pas encore stocké en azote",
    "No storage position yet": "Pas encore d'emplacement de stockage",
    "Status": "Statut",
    "On hand since": "En stock depuis",
    "dose": "dose",
    "available": "disponible",
    "suspended": "suspendu",
    "recalled": "rappelé",
    "quarantined": "en quarantaine",
    "No unit is on hand.": "Aucune unité en stock.",
    "Pseudonym only: the identity of the patient is never shown here.": (
        "Pseudonyme uniquement : l'identité du patient n'est jamais affichée ici."
    ),
    "overdue follow-up visits": "visites de suivi en retard",
    "last on-time day": "dernier jour dans les temps",
    "Follow-up schedule": "Calendrier de suivi",
    "Every scheduled visit, with its status on": "Toutes les visites prévues, avec leur statut au",
    "Visit": "Visite",
    "Due on": "Prévue le",
    "Last on-time day": "Dernier jour dans les temps",
    "Overdue": "EN RETARD",
    "days late": "jours de retard",
    "Done": "Faite",
    "Due": "À faire",
    "Upcoming": "À venir",
    "in": "dans",
    "days": "jours",
    "d": "j",
    "No follow-up is scheduled yet (it starts at the infusion).": (
        "Aucun suivi n'est encore prévu (il commence à la perfusion)."
    ),
    "clinical": "clinique",
    "care pathway": "parcours de soins",
    "Details": "Détails",
    "Recorded at": "Enregistré le",
    "A product as the ledger knew it at a moment": "Un produit tel que le registre le connaissait à un instant",
    "Replays the signed events recorded up to that moment; a step recorded later, even back-dated, is not shown.": (
        "Rejoue les événements signés enregistrés jusqu'à cet instant ; une étape enregistrée plus tard, "
        "même antidatée, n'apparaît pas."
    ),
    "Product (COI or UUID)": "Produit (COI ou UUID)",
    "As of": "À la date du",
    "as of": "à la date du",
    "Now": "Maintenant",
    "Replay": "Rejouer",
    "Version": "Version",
    "Invalid request": "Requête invalide",
    "Verify the whole ledger": "Vérifier tout le registre",
    "Re-checks every stored event: hashes, signatures, chains, keys and checkpoints.": (
        "Revérifie chaque événement stocké : empreintes, signatures, chaînes, clés et points de contrôle."
    ),
    "Run verification": "Lancer la vérification",
    "Verification in progress": "Vérification en cours",
    "events": "événements",
    "Refresh": "Actualiser",
    "The verification could not run": "La vérification n'a pas pu s'exécuter",
    "This verification is no longer known (the server may have restarted): run it again.": (
        "Cette vérification n'est plus connue (le serveur a peut-être redémarré) : relancez-la."
    ),
    "Ledger intact": "Registre intact",
    "aggregates": "agrégats",
    "checkpoints": "points de contrôle",
    "failures": "anomalies",
    "What was found wrong": "Anomalies trouvées",
    "Log position": "Position dans le journal",
    "Aggregate": "Agrégat",
    "Reason": "Motif",
    "Detail": "Détail",
    "more": "de plus",
    "Key history anchored in ledger.pub.": "Historique des clés ancré dans ledger.pub.",
    "No trust anchor: ledger.pub is missing.": "Aucune ancre de confiance : ledger.pub est absent.",
    "Turnaround metrics": "Délais de prise en charge",
    "Days per product kind and site: the bar is the median, the whisker runs from shortest to longest.": (
        "Jours par type de produit et site : la barre est la médiane, le trait va du plus court au plus long."
    ),
    "No product is enrolled yet.": "Aucun produit n'est encore inscrit.",
    "median, shortest and longest, in days": "médiane, plus court et plus long, en jours",
    "Collection to release": "Du prélèvement à la libération",
    "Release to infusion": "De la libération à la perfusion",
    "Product kind": "Type de produit",
    "Measured": "Mesurés",
    "Median": "Médiane",
    "Mean": "Moyenne",
    "Shortest": "Plus court",
    "Longest": "Plus long",
    "median": "médiane",
    "min": "min",
    "max": "max",
    "no data yet": "pas encore de données",
    "Collection": "Prélèvement",
    "Release": "Libération",
    "Infusion": "Perfusion",
    "not yet": "pas encore",
    "Trial sites": "Centres de l'essai",
    "Readiness on": "Prérequis au",
    "ready": "prêt",
    "not ready": "pas prêt",
    "Prerequisite": "Prérequis",
    "Evidence": "Justificatif",
    "signed by": "signé par",
    "attested by": "attesté par",
    "specialty": "spécialité",
    "until": "jusqu'au",
    "No site is preparing for this trial.": "Aucun centre ne se prépare pour cet essai.",
    "met": "rempli",
    "missing": "manquant",
    "expiring": "expire bientôt",
    "opened": "en préparation",
    "active": "activé",
    "closed": "clos",
    # QC results against the release panel, and corrected facts (product page)
    "QC results against the release panel": "Résultats du contrôle qualité face au panel de libération",
    "Lot": "Lot",
    "no release panel is known for this product code": "aucun panel de libération n'est connu pour ce code produit",
    "panel complete": "panel complet",
    "panel incomplete: release needs the whole panel": "panel incomplet : la libération exige le panel complet",
    "release needs the whole panel": "la libération exige le panel complet",
    "out of specification": "hors spécification",
    "in specification": "conforme à la spécification",
    "as declared by its recorder": "tel que déclaré par son auteur",
    "Each test: measured value, acceptance criterion and the verdict computed from them": (
        "Chaque test : valeur mesurée, critère d'acceptation et verdict calculé à partir d'eux"
    ),
    "Test": "Test",
    "Measured value": "Valeur mesurée",
    "Acceptance criterion": "Critère d'acceptation",
    "Verdict": "Verdict",
    "First signed value (before correction)": "Valeur signée initialement (avant correction)",
    "not in the panel": "hors panel",
    "not in the first record": "absent de l'enregistrement initial",
    "first signed at": "signé initialement en",
    "corrected at": "corrigé en",
    "absent": "absent",
    "Corrected facts": "Faits corrigés",
    "A signed fact is never changed: each correction is a new signed event, and the original stays in the history.": (
        "Un fait signé n'est jamais modifié : chaque correction est un nouvel événement signé, et l'original reste "
        "dans l'historique."
    ),
    "first signed by": "signé initialement par",
    "corrects": "corrige",
    "Fields": "Champs",
    "Original values beside the values in force": "Valeurs d'origine à côté des valeurs en vigueur",
    "Original value": "Valeur d'origine",
    "Value in force": "Valeur en vigueur",
    "Corrected": "Corrigé",
    "Correction of": "Correction de",
    "Audit log of people": "Journal d'audit des personnes",
    (
        "Identity reveals and erasures, wrong signing passwords, signing locks and unlocks: latest first. "
        "Pseudonyms only, never the identity of a patient."
    ): (
        "Levées et effacements d'identité, mots de passe de signature erronés, verrouillages et déverrouillages de "
        "la signature : les plus récents d'abord. Pseudonymes seulement, jamais l'identité d'un patient."
    ),
    "When": "Quand",
    "Action": "Action",
    "By": "Par",
    "Subject": "Sujet",
    "Nothing recorded yet.": "Rien d'enregistré pour l'instant.",
}

MEANINGS_FR = {
    "performed": "réalisé",
    "verified": "vérifié",
    "witnessed": "témoin",
    "approved": "approuvé",
    "released": "libéré",
    "received": "reçu",
    "reviewed": "revu",
    "authored": "rédigé",
    "recorded": "enregistré",
    "requested": "demandé",
}


def language(cookie: str | None, accept: str | None) -> str:
    """The chosen language (cookie first), else the browser's first known one, else French."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def translator(lang: str) -> Callable[[str], str]:
    """``t(text)`` for one language."""
    if lang == "fr":
        catalogue = {**FRENCH, **MEANINGS_FR}
        return lambda text: catalogue.get(text, text)
    return lambda text: text

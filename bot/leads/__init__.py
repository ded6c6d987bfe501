"""The hand-off of a lead ("Ik wil helpen") to the organisation and what follows.

new lead --leads.scan--> lead.deliver (e-mail + optional webhook) --+2 working days-->
lead.remind --+5--> lead.escalate (the local volunteer centre). The organisation answers on
its signed page `/l/{token}`; that answer is the funnel's "organisation responded".
"""
